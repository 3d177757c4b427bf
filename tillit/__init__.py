"""Tillit: member and case management for unions, member organisations and municipalities."""
