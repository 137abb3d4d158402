#!/bin/sh
# The program mod_fcgid runs on shared hosting (see htaccess.example): Apache starts it with the
# listening socket on fd 0. It names perch's configuration file, which lives OUTSIDE the web root (it holds
# secrets), and becomes `perch serve`. Edit the two paths; keep this file executable (chmod 755).
PERCH_CONFIG_FILE="${PERCH_CONFIG_FILE:-$HOME/perch/perch.env}"
export PERCH_CONFIG_FILE
exec "${PERCH_BIN:-$HOME/perch/bin/perch}" serve
