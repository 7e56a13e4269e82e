"""Signal receivers that turn the other apps' events into messages (filled in below)."""
