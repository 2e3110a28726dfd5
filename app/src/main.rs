use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPlugin, EguiPrimaryContextPass, egui};

fn main() {
    App::new()
        .add_plugins(DefaultPlugins)
        .add_plugins(EguiPlugin::default())
        .add_systems(Startup, |mut commands: Commands| {
            commands.spawn(Camera2d);
        })
        .add_systems(EguiPrimaryContextPass, ui)
        .run();
}

fn ui(mut contexts: EguiContexts) -> Result {
    egui::Window::new("Bottleneck").show(contexts.ctx_mut()?, |ui| {
        ui.label("hello");
        egui_plot::Plot::new("p").show(ui, |_| {});
    });
    Ok(())
}
