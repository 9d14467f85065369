"""ocppgen runtime: the hand-written part of a generated OCPP package.

This folder is copied verbatim into every generated package (as ``<package>.runtime``), so it
uses relative imports only and depends on nothing but the standard library and msgspec (and
websockets in the asyncio modules ``connection``, ``server`` and ``client``).

Sans-I/O (no sockets, no clock, no awaits that do I/O):
    payload   -- base struct for generated messages, open objects, cached payload codecs
    checks    -- exact checks for schema keywords msgspec cannot express (multipleOf, uri)
    frames    -- OCPP-J frames: one-pass envelope decode, diagnosis, encoding
    codes     -- the one table: failure kind x version -> wire error code
    errors    -- the error hierarchy
    events    -- what the protocol core reports
    lenient   -- the lenient inbound profile
    routing   -- routes, role bindings, handler base, call context
    session   -- what outlives a connection: registration rules both ways, 2.1 answer cache
    protocol  -- the OCPP-J core: frames in, events and frames out, timers
    wire      -- 2.x value rules: date-times and decimals out, RFC 3339 syntax in
    security  -- authentication helpers, redaction of secrets in logs
    credentials -- salted password hashes, rotation (A01), brute-force limits
    signing   -- signed messages (JWS, 2.x Part 4 chapter 7); cryptography imported lazily
    tls       -- ready-made TLS contexts per security profile and version
    certificates, certificate_management -- keys, CSRs, a small CA, chain checks, hash data;
                 the station's certificate store and the A02/A03 flows (cryptography, lazily)
    admission -- admission control for reconnection storms
    queue     -- the station's durable queue of transaction-related messages
    values    -- where a station's configuration values persist (SQLite, memory)
    device_model -- the station's 2.x device model: GetVariables, SetVariables, reports (B05-B08)
    configuration_store -- the station's 1.6 configuration keys (GetConfiguration, ChangeConfiguration)
    device_model_csms -- CSMS side: reports assembled, requests split by the station's limits,
                 configuration at boot
    registry  -- how application code reaches sessions; session stores
    config    -- the options of each side

asyncio and websockets:
    connection -- one WebSocket's life, driving the protocol core
    server     -- CsmsServer
    client     -- StationClient
    asgi       -- the CsmsServer as an ASGI application (Starlette, FastAPI, ...)
    loop       -- run on uvloop when it is installed (the ``uvloop`` extra), else asyncio's loop

Optional:
    metrics    -- Prometheus and OpenTelemetry exporters fed by the runtime's events
"""
