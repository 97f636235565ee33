"""Test helpers: runs and their checks for every test that trains (`runs`), forged checkpoint
files (`forge`) and in-process I/O fault injection (`faults`)."""
