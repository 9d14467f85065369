"""The official OCPP JSON schema sets, one folder per version (data, not code)."""
