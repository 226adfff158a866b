"""On-site assistance (监督援助, R6): requests, nearest-first dispatch, arrival and report."""
