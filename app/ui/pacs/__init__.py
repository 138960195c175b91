"""PACS dialogs (issue 15): nodes, query/retrieve, send findings; app.net is called only from workers."""
