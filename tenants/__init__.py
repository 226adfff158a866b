"""The jurisdiction tree: every tenant is a path in it (`jl.th.dc`)."""
