"""The REST API's shared machinery: errors, pagination, limits, reference resources."""
