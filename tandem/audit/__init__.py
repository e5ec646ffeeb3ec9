"""`tandem audit` (SPEC §5, §6): the invariants checked against the data, one small check each."""
