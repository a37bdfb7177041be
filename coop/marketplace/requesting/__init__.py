"""The requester's pages (funds, batches, review) and the coordinators' payment pages."""
