"""The `krmfn` subcommands; each module is imported only when its command runs."""
