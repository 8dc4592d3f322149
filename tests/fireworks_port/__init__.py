"""FireWorks' own test scenarios, rewritten against starshell on both stores.

Each module here follows one FireWorks test module (named in its docstring):
the same scenarios, written as a FireWorks user writes them (FireWorks' API
names, starshell's imports), in our own code. What FireWorks checks there and
starshell deliberately does differently is named in docs/fireworks.md
("FireWorks' own tests, ported").
"""
