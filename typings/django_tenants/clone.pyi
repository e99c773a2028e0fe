class CloneSchema:
    def _create_clone_schema_function(self) -> None: ...
    def clone_schema(
        self,
        base_schema_name: str,
        new_schema_name: str,
        clone_mode: str = ...,
        set_connection: bool = ...,
    ) -> None: ...
