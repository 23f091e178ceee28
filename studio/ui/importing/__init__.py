"""File → Import script…: a book read in a worker, previewed, and added in one step."""
