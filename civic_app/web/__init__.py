"""Web helpers shared by every feature: policies, htmx, security headers, filters."""
