"""The exceptions of drg: one base, :class:`DrgError`, and a subclass for
each kind of problem, so that a caller can catch everything drg refuses with
one ``except drg.DrgError`` or one kind precisely.

- :class:`InputError` (also a ``ValueError``): cases or columns that cannot be
  read: a field of the wrong type, a column named twice, a frame too large or
  without any case column. ``CaseError`` is the same class, its older name.
- :class:`PackError` (also a ``ValueError``): a rule pack that cannot be
  loaded; the message names the file and place.
- :class:`PolicyError` (also a ``ValueError``): a points policy, weights table
  or point-calculation input that cannot be used. ``PointsError`` is the same
  class, its older name.
- :class:`DipError` (a :class:`PolicyError`): a DIP policy, catalogue or step
  that cannot be used.
- :class:`InternalError`: a bug in drg (a Rust panic caught at the boundary);
  please report it.

The native module raises these classes (drg-py/src/errors.rs maps Rust errors
to them in one place); an error of your own code (say, the iterable given to
``Grouper.group_many`` raising) reaches you unchanged.
"""

__all__ = ["DrgError", "InputError", "PackError", "PolicyError", "DipError", "InternalError", "CaseError", "PointsError"]


class DrgError(Exception):
    """The base of every error drg raises."""


class InputError(DrgError, ValueError):
    """Cases or columns that cannot be read."""


class PackError(DrgError, ValueError):
    """A rule pack that cannot be loaded; the message names the file and place."""


class PolicyError(DrgError, ValueError):
    """A points policy, weights table or point-calculation input that cannot be used."""


class DipError(PolicyError):
    """A DIP policy, catalogue or step that cannot be used; the message names the file and place."""


class InternalError(DrgError):
    """A bug in drg (a caught Rust panic). Please report it with the input that caused it."""


#: The older name of :class:`InputError`.
CaseError = InputError
#: The older name of :class:`PolicyError`.
PointsError = PolicyError
