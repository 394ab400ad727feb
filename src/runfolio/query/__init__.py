"""Reading runs back out: the ``search_runs`` filter language, ordering and tabular views."""
