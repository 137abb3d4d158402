// Request bodies, responses and schemas speak JSONValue: whoever uses the web layer gets the JSON module too.
@_exported import JSON
