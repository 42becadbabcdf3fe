"""krmfn's own API (group krmfn.dev, version v1alpha1): input resources and function configs.

Every field is documented in its model and in functions/<name>/README.md.
"""
