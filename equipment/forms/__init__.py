"""Equipment forms, one module per area.  Forms parse input; services enforce the rules."""
