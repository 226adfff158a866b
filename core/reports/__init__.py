"""Reports over the domains (R7.2, R9): scorecards, and exports of lists as links bound to a
session, CSV and XLSX written as streams."""
