"""The /_sandbox control plane: health, reset, snapshots, the clock, faults, logs."""
