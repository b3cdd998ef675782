"""CSV imports of contacts: reading the file, mapping its columns, running the job."""
