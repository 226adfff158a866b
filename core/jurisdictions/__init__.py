"""Jurisdictions as data: the tree read (public: offices are public bodies) and a tenant added
by an office that may."""
