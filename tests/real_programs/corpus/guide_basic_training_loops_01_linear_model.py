# Origin: tensorflow/docs site/en/guide/basic_training_loops.ipynb, cells _WRu7Pze7wk8,
# Y0ysUFGY924U, MBIACgdnA55X, XdfkR223D9dW, iRuNUghs1lHY (a linear model trained by a tape loop).
# Changes: tf.Module becomes a plain class (tf.Module is out of scope); the data are fixed (tf.linspace
# and a deterministic "noise") instead of tf.random.normal; the plots are left out.
import tensorflow as tf

TRUE_W = 3.0
TRUE_B = 2.0
NUM_EXAMPLES = 201
x = tf.linspace(-2.0, 2.0, NUM_EXAMPLES)


def f(x):
    return x * TRUE_W + TRUE_B


noise = 0.5 * tf.sin(7.0 * x)
y = f(x) + noise


class MyModel:
    def __init__(self):
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

    def __call__(self, x):
        return self.w * x + self.b


model = MyModel()
assert model(3.0).numpy() == 15.0


def loss(target_y, predicted_y):
    return tf.reduce_mean(tf.square(target_y - predicted_y))


print("Current loss: %1.6f" % loss(y, model(x)).numpy())  # noqa: UP031 - as the guide writes it


def train(model, x, y, learning_rate):
    with tf.GradientTape() as t:
        current_loss = loss(y, model(x))
    dw, db = t.gradient(current_loss, [model.w, model.b])
    model.w.assign_sub(learning_rate * dw)
    model.b.assign_sub(learning_rate * db)


weights = []
biases = []
epochs = range(10)


def report(model, loss):
    return f"W = {model.w.numpy():1.2f}, b = {model.b.numpy():1.2f}, loss={loss:2.5f}"


def training_loop(model, x, y):
    for epoch in epochs:
        train(model, x, y, learning_rate=0.1)
        weights.append(model.w.numpy())
        biases.append(model.b.numpy())
        current_loss = loss(y, model(x))
        print(f"Epoch {epoch:2d}:")
        print("    ", report(model, current_loss))


current_loss = loss(y, model(x))
print("Starting:")
print("    ", report(model, current_loss))
training_loop(model, x, y)
print("Current loss: %1.6f" % loss(model(x), y).numpy())  # noqa: UP031 - as the guide writes it
