"""ML2 mechanism driver binding every port (see :mod:`enos_ml2.driver`)."""
