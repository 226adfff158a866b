"""Supervisors: applications, nominations, appointments, terms, certificates, renewal,
dismissal, discipline, composition, groups and contact firms."""
