"""Epidemiology core: Rt (Cori et al. 2013, as EpiEstim), doubling time, epi curves. Pure numpy/scipy.

See ``cordon.epi.rt`` and docs/epi.md.
"""
