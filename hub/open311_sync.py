def pull_all(hub):
    return []
