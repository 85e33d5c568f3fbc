"""Administration: the service behind the admin HTTP API and the demo (`service`), and the
CSV tables it reads and writes (`tables`: the roster import, the record export)."""
