"""Agencies (部门单位): the government departments that receive cases and must reply."""
