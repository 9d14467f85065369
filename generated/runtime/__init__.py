"""ocppgen runtime: the hand-written part of a generated OCPP package.

This folder is copied verbatim into every generated package (as ``<package>.runtime``), so it
uses relative imports only and depends on nothing but the standard library and msgspec.

Modules:
    payload  -- base struct for generated messages, open objects, cached payload codecs
    checks   -- exact checks for schema keywords msgspec cannot express (multipleOf, uri)
"""
