// Placeholder: one of several processes sharing a RedisTokenStore (tests/integration/redis_fleet_test.cpp).
int main() { return 0; }
