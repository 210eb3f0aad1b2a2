"""City-scale mass screening (全员核酸): rounds, pooled sample registrations, tube results, recall, coverage."""
