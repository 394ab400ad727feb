"""Publishing a store's site: the files runfolio writes once into a repository to do it."""
