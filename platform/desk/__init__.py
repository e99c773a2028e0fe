"""The officers' one-stop desk: intake, the workflow engine, worklists and deadlines."""
