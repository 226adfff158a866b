"""Authorization: Casbin decides for one object, SQL filters for lists."""
