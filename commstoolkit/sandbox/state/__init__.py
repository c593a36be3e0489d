"""The sandbox's state: the SQLite store (one file shared by processes, or ``:memory:``) with
the record of the user's changes, the seeded account, ids, and SQL filters for keyset pages."""
