// Shared test helpers (loopback servers, fixture minting) live here.
