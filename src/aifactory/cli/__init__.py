"""The `factory` command: thin front end over `aifactory.service`."""
