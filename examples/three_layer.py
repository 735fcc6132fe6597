"""A 2-3-4-3 network of a student's own: tanh, then sigmoid, then linear outputs, half the
squared error; one gradient-descent step. Every first-layer weight has 12 paths to the loss."""
from microgradnet import Value, nn
from microgradnet import functional as F

x = [Value(0.5, label="x1"), Value(-1.0, label="x2")]
layer1 = nn.Linear.from_weights([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]], [0.0, 0.2, -0.1],
                                w_labels=lambda k, j: f"u{k}{j}", b_labels=lambda k: f"c{k}")
layer2 = nn.Linear.from_weights([[0.3, -0.1, 0.2], [-0.4, 0.5, 0.1], [0.2, 0.2, -0.3],
                                 [0.1, -0.6, 0.4]], [0.05, -0.05, 0.0, 0.1],
                                w_labels=lambda k, j: f"v{k}{j}", b_labels=lambda k: f"d{k}")
layer3 = nn.Linear.from_weights([[0.5, -0.3, 0.2, 0.1], [-0.2, 0.4, 0.3, -0.5],
                                 [0.1, 0.1, -0.4, 0.6]], [0.0, 0.0, 0.0],
                                w_labels=lambda k, j: f"w{k}{j}", b_labels=lambda k: f"e{k}")

z1 = layer1(x)
h1 = [z.tanh() for z in z1]
z2 = layer2(h1)
h2 = [z.sigmoid() for z in z2]
y = layer3(h2)
for name, nodes in (("z1", z1), ("h1", h1), ("z2", z2), ("h2", h2), ("y", y)):
    for k, node in enumerate(nodes, start=1):
        node.label = f"{name}[{k}]"
targets = [Value(1.0, label="t1"), Value(0.0, label="t2"), Value(-1.0, label="t3")]
root = F.mse(y, targets, reduction="half")
root.label = "L"

params = layer1.parameters() + layer2.parameters() + layer3.parameters()
lr = 0.1
