// The rate limit table: fixed-size counters in one MAP_SHARED mapping that the master makes before it forks,
// so every worker of a host counts into the same budget without a database write. A counter is a caller's
// key (a hash of role, limit group and user or client address) and its fixed window; each entry has a
// spin lock of its own, held for a few instructions.
#include <stdint.h>

struct perch_rate_entry {
    uint64_t key;      // 0: free
    int64_t window;    // the window number (unix seconds / window length)
    uint32_t count;    // requests counted in that window
    uint32_t lock;
};

// How many entries after the home one a key may live in.
#define PERCH_RATE_PROBES 8

static inline int perch_rate_lock(struct perch_rate_entry *e) {
    // Bounded: a worker killed inside the few locked instructions must not hang the others forever.
    for (int spins = 0; spins < 100000; spins++) {
        if (__atomic_exchange_n(&e->lock, 1, __ATOMIC_ACQUIRE) == 0) return 1;
    }
    return 0;
}
static inline void perch_rate_unlock(struct perch_rate_entry *e) { __atomic_store_n(&e->lock, 0, __ATOMIC_RELEASE); }

// Counts one request of `key` in `window` and returns the count so far in that window, this one included.
// Returns 0 when the key found no place (every probed entry is another key's live counter) or a lock was not
// taken: the request is not counted (the table fails open rather than refuse callers it cannot track).
static inline uint32_t perch_rate_hit(struct perch_rate_entry *table, uint32_t size, uint64_t key, int64_t window) {
    if (key == 0) key = 1;
    uint32_t home = (uint32_t)(key % size);
    // First the key's own entry, so that a key never gets two.
    for (uint32_t i = 0; i < PERCH_RATE_PROBES; i++) {
        struct perch_rate_entry *e = &table[(home + i) % size];
        if (!perch_rate_lock(e)) return 0;
        if (e->key == key) {
            if (e->window != window) { e->window = window; e->count = 0; }
            uint32_t count = ++e->count;
            perch_rate_unlock(e);
            return count;
        }
        perch_rate_unlock(e);
    }
    // Then a free entry, or one whose window has passed.
    for (uint32_t i = 0; i < PERCH_RATE_PROBES; i++) {
        struct perch_rate_entry *e = &table[(home + i) % size];
        if (!perch_rate_lock(e)) return 0;
        if (e->key == 0 || e->window < window) {
            e->key = key; e->window = window; e->count = 1;
            perch_rate_unlock(e);
            return 1;
        }
        perch_rate_unlock(e);
    }
    return 0;
}
