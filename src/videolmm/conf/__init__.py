"""Hydra configuration tree of videolmm (``pkg://videolmm.conf``): one folder per group, one file per option."""
