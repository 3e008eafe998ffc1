"""Workflows: DAG files of steps (small agents, roles, factory runs, shell commands) run by the factory.

This layer sits above `service`: a workflow composes what the service offers (plan and run, a role's
answer, a small agent) and front ends call it as they call the service.
"""
