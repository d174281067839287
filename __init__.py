"""okrledger: event-sourced, multi-tenant OKRs and KPIs over GraphQL."""
