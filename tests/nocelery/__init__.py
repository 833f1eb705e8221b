"""A shop project with no Celery app at all (settings only, like a stock django-oscar shop).

``scenario.py`` runs in a process of its own, so that nothing of the main suite's Celery
app is loaded: it saves a product, completes a try-on, and reports what reached a broker.
"""
