// Generated types live in the build plugin output; this file keeps the target non-empty.
@_exported import OpenAPIRuntime
