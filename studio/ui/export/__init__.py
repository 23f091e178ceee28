"""The Export dialog (File → Export…)."""
