"""The rulebook language: text to AST, checks, formatting, evaluation."""
