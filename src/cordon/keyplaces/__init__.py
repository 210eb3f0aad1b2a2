"""Key places (重点场所): schools, hospitals, nursing homes, prisons and essential places; closed loops (闭环),
shifts, entries and exits, on-site tests, breaches."""
