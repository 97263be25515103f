"""Records from any machine: reading untrusted files, the machine's identity, provenance, the folder store,
and collecting records from elsewhere."""

STAGE = "measure"
