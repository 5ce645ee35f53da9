"""Risk early warning: the country and project risk registers and the warnings computed
from them and from the pool's dates and figures. Staff only: partners never see them."""
