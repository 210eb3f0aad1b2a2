"""Key workers (重点人群): riders, couriers, market staff, drivers, quarantine-site and fever-clinic staff; their
employers, test cadence (current / overdue, ../shared/POLICY.md) and overdue lists."""
