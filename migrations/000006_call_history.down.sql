DROP TABLE replicas;
DROP FUNCTION rate_lease(text, double precision, double precision, double precision);
DROP TABLE rate_buckets;
DROP TABLE call_hours;
DROP TABLE call_minutes;
DROP TABLE calls;
